"""Kaltura API exceptions with the codes, argument names and message templates of the real server."""

from __future__ import annotations

import re

ERRORS: dict[str, tuple[tuple[str, ...], str]] = {
    "INTERNAL_SERVERL_ERROR": ((), "Internal server error occurred"),
    "MISSING_KS": ((), "Missing KS, session not established"),
    "INVALID_KS": (("KSID", "ERR_CODE", "ERR_DESC"), 'Invalid KS "@KSID@", Error "@ERR_CODE@,@ERR_DESC@"'),
    "SERVICE_FORBIDDEN": (("SERVICE",), "The access to service [@SERVICE@] is forbidden"),
    "SERVICE_DOES_NOT_EXISTS": (("SRV_NAME",), 'Service "@SRV_NAME@" does not exists'),
    "ACTION_DOES_NOT_EXISTS": (
        ("ACTION_NAME", "SERVICE_NAME"),
        'Action "@ACTION_NAME@" does not exists for service "@SERVICE_NAME@"',
    ),
    "ACTION_BLOCKED": (
        ("ACTION_NAME", "SERVICE_NAME"),
        'Action "@ACTION_NAME@" in service "@SERVICE_NAME@" is blocked',
    ),
    "MISSING_MANDATORY_PARAMETER": (("PARAM_NAME",), 'Missing parameter "@PARAM_NAME@"'),
    "INVALID_OBJECT_TYPE": (("INVALID_OBJ_TYPE",), 'Invalid object type "@INVALID_OBJ_TYPE@"'),
    "PROPERTY_VALIDATION_CANNOT_BE_NULL": (("PROP_NAME",), 'The property "@PROP_NAME@" cannot be null'),
    "START_SESSION_ERROR": (("PID",), "Error while starting session for partner [@PID@]"),
    "ENTRY_ID_NOT_FOUND": (("ENTRY_ID",), 'Entry id "@ENTRY_ID@" not found'),
    "ENTRY_ALREADY_WITH_CONTENT": ((), "Entry already associated with content"),
    "INVALID_ENTRY_STATUS": ((), "Invalid entry status"),
    "RESOURCE_TYPE_NOT_SUPPORTED": (("RES_TYPE",), 'Resource type "@RES_TYPE@" not supported'),
    "FLAVOR_ASSET_ID_NOT_FOUND": (("ID",), 'Flavor asset id "@ID@" not found'),
    "FLAVOR_ASSET_IS_NOT_READY": ((), "The flavor asset is not ready"),
    "THUMB_ASSET_IS_NOT_READY": ((), "The thumbnail asset is not ready"),
    "ENTRY_MEDIA_TYPE_NOT_SUPPORTED": (("MEDIA_TYPE",), 'Entry media type "@MEDIA_TYPE@" not supported'),
    "THUMB_ASSET_ID_NOT_FOUND": (("ID",), 'Thumbnail asset id "@ID@" not found'),
    "UPLOAD_TOKEN_NOT_FOUND": ((), "Upload token not found"),
    "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD": (
        (),
        "Upload token is in an invalid status for uploading a file, maybe the file was already uploaded",
    ),
    "UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY": (
        (),
        "Upload token is in an invalid status for adding entry, maybe the a file was not uploaded or the "
        "token was used",
    ),
    "UPLOAD_TOKEN_CANNOT_RESUME": ((), "Cannot resume the upload, original file was not found"),
    "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE": ((), "Failed to match expected file size"),
    "UPLOAD_ERROR": ((), "Upload failed"),
    "UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD": ((), "Upload token is restricted due to the file type"),
    "UPLOAD_TOKEN_MISSING_FILE_SIZE": ((), "FileSize is mandatory when enabling autoFinalize"),
    "UPLOAD_PASSED_MAX_RESUME_TIME_ALLOWED": (
        ("MAX_RESUME_TIME",),
        "Max resume time of @MAX_RESUME_TIME@ seconds reached, cannot resume upload",
    ),
    "UPLOADED_FILE_NOT_FOUND_BY_TOKEN": (
        (),
        "The uploaded file was not found by the given token id, or was already used",
    ),
    "FILE_CONTENT_NOT_SECURE": ((), "File content contains potential security risks"),
    "PERMISSION_DENIED_TO_UPDATE_ENTRY": (
        (),
        "User can update only the entries he own, otherwise an admin session must be used",
    ),
    "QUERY_EXCEEDED_MAX_MATCHES_ALLOWED": ((), "Unable to generate list. max matches value was reached"),
    "CRITERIA EXCEEDED MAX MATCHES ALLOWED": ((), "Unable to generate list. max matches value was reached"),
    "EMPTY SEARCH ITEMS ARE NOT ALLOWED": ((), "empty search items are not allowed"),
    "EMPTY SEARCH OPERATOR IS NOT ALLOWED": ((), "empty search operator is not allowed"),
    "MISSING OPERATOR TYPE": ((), "missing operator type"),
    "SEARCH_TYPE_NOT_ALLOWED_ON_FIELD": (
        ("TYPE", "FIELD"),
        " Type of search [@TYPE@] not allowed on specific field [@FIELD@]",
    ),
    "EMPTY SEARCH TERM IS NOT ALLOWED": (
        ("FIELD", "TYPE"),
        " Empty search term is not allowed on Field [@FIELD@] and search type [@TYPE@]",
    ),
    "INVALID_FIELD_NAME": (("FIELD_NAME",), "Illegal query field name [@FIELD_NAME@]"),
}


class KalturaAPIError(Exception):
    """An API error as Kaltura reports it: a code, a message and named arguments."""

    def __init__(self, code: str, *args: object, message: str | None = None) -> None:
        names, template = ERRORS.get(code, ((), code))
        self.code = code
        self.args_map: dict[str, str] = {name: str(value) for name, value in zip(names, args, strict=False)}
        text = template
        for name, value in self.args_map.items():
            text = text.replace(f"@{name}@", value)
        self.message = message if message is not None else re.sub(r"@[A-Z_]+@", "", text)
        super().__init__(f"{code}: {self.message}")
