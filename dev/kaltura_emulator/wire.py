"""Kaltura wire format: request parameters in, XML responses out."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from typing import IO, Any

from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from dev.kaltura_emulator.errors import KalturaAPIError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")


def escape(text: str) -> str:
    """Escape text for an XML element body (and drop characters XML cannot carry)."""
    if not _SPECIAL.search(text):
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _CONTROL.sub("", text)


def _value(value: Any, out: list[str]) -> None:
    """Append the XML body of one value (object, array, scalar) to out; None is an empty element."""
    if isinstance(value, dict):
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                out.append(f"<{key}>{escape(item)}</{key}>")
            elif kind is int:
                out.append(f"<{key}>{item}</{key}>")
            elif item is None:
                out.append(f"<{key}></{key}>")
            else:
                out.append(f"<{key}>")
                _value(item, out)
                out.append(f"</{key}>")
    elif isinstance(value, list | tuple):
        for item in value:
            out.append("<item>")
            _value(item, out)
            out.append("</item>")
    elif isinstance(value, bool):
        out.append("1" if value else "0")
    elif isinstance(value, float):
        out.append(repr(value))
    elif value is not None:
        out.append(escape(str(value)))


def error_body(error: KalturaAPIError) -> dict[str, Any]:
    """The object Kaltura returns for an API exception."""
    args = [
        {"objectType": "KalturaApiExceptionArg", "name": name, "value": value}
        for name, value in error.args_map.items()
    ]
    return {"objectType": "KalturaAPIException", "code": error.code, "message": error.message, "args": args}


def render_result(value: Any) -> str:
    """The XML body of a <result> element for a single call's result or error."""
    out: list[str] = []
    if isinstance(value, KalturaAPIError):
        out.append("<error>")
        _value(error_body(value), out)
        out.append("</error>")
    else:
        _value(value, out)
    return "".join(out)


def render_response(result: Any, execution_time: float, multi: bool = False) -> bytes:
    """The whole XML document for a response (a list of results when multi)."""
    if multi:
        body = "".join(f"<item>{render_result(item)}</item>" for item in result)
    else:
        body = render_result(result)
    document = (
        '<?xml version="1.0" encoding="utf-8"?><xml><result>'
        f"{body}</result><executionTime>{execution_time:.6f}</executionTime></xml>"
    )
    return document.encode("utf-8")


def _set_path(params: dict[str, Any], key: str, value: Any) -> None:
    """Store a flattened key (a:b:c or a[b][c]) into nested dicts."""
    parts = [part for part in re.split(r"[:\[\]]+", key) if part != ""]
    if not parts:
        return
    node = params
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def parse_params(json_text: str | None, form: dict[str, str]) -> dict[str, Any]:
    """Merge a JSON body and flattened form/query fields into one nested parameter dict."""
    params: dict[str, Any] = {}
    for key, value in form.items():
        _set_path(params, key, value)
    if json_text:
        try:
            loaded = json.loads(json_text)
        except ValueError as exc:
            raise KalturaAPIError("INTERNAL_SERVERL_ERROR", message="Invalid JSON body") from exc
        if isinstance(loaded, dict):
            params.update(loaded)
    return _apply_nulls(params)


def _apply_nulls(node: Any) -> Any:
    """Turn Kaltura's `key__null` markers into explicit None values, recursively."""
    if isinstance(node, dict):
        result: dict[str, Any] = {}
        for key, value in node.items():
            if isinstance(key, str) and key.endswith("__null"):
                result[key[: -len("__null")]] = None
            else:
                result[key] = _apply_nulls(value)
        return result
    if isinstance(node, list):
        return [_apply_nulls(item) for item in node]
    return node


_REF = re.compile(r"^\{(\d+):result((?::[^}]*)?)\}$")


def _resolve_ref(match: re.Match[str], results: list[Any]) -> Any:
    """The value a `{N:result:a:b}` reference points at (1-based N), or None."""
    index = int(match.group(1)) - 1
    if index < 0 or index >= len(results):
        return None
    value = results[index]
    for part in [p for p in match.group(2).split(":") if p]:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def substitute_refs(node: Any, results: list[Any]) -> Any:
    """Replace multirequest result references in a parameter tree with the referenced values."""
    if isinstance(node, dict):
        return {key: substitute_refs(value, results) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute_refs(item, results) for item in node]
    if isinstance(node, str) and node.startswith("{"):
        match = _REF.match(node)
        if match:
            value = _resolve_ref(match, results)
            if isinstance(value, bool):
                return "1" if value else "0"
            return value if isinstance(value, dict | list) or value is None else str(value)
    return node


class Params:
    """Typed access to one call's parameters (JSON scalars arrive as strings)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def raw(self, name: str) -> Any:
        """The raw value of a parameter (None when absent or null)."""
        return self.data.get(name)

    def has(self, name: str) -> bool:
        """Whether a non-null parameter was sent."""
        return self.data.get(name) is not None

    def get_str(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        """A string parameter."""
        value = self.data.get(name)
        if value is None or isinstance(value, dict | list):
            if required:
                raise KalturaAPIError("MISSING_MANDATORY_PARAMETER", name)
            return default
        return str(value)

    def get_int(self, name: str, default: int | None = None, required: bool = False) -> int | None:
        """An integer parameter."""
        value = self.get_str(name, None, required)
        if value is None or value == "":
            return default
        try:
            return int(float(value))
        except ValueError:
            return default

    def get_float(self, name: str, default: float | None = None) -> float | None:
        """A float parameter."""
        value = self.get_str(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except ValueError:
            return default

    def get_bool(self, name: str, default: bool = False) -> bool:
        """A boolean parameter ("1", "true" and "True" are true)."""
        value = self.get_str(name)
        if value is None or value == "":
            return default
        return value.strip().lower() in ("1", "true", "yes", "on")

    def obj(self, name: str, required: bool = False) -> Params | None:
        """A nested object parameter."""
        value = self.data.get(name)
        if isinstance(value, dict):
            return Params(value)
        if required:
            raise KalturaAPIError("MISSING_MANDATORY_PARAMETER", name)
        return None

    def objects(self, name: str) -> list[Params]:
        """An array-of-objects parameter (a list, or a dict keyed by index)."""
        value = self.data.get(name)
        if isinstance(value, list):
            return [Params(item) for item in value if isinstance(item, dict)]
        if isinstance(value, dict):
            keys = sorted((k for k in value if str(k).isdigit()), key=lambda k: int(k))
            return [Params(value[k]) for k in keys if isinstance(value[k], dict)]
        return []

    def object_type(self) -> str:
        """The objectType of this object ('' when absent)."""
        return str(self.data.get("objectType") or "")


@dataclass
class Part:
    """A binary multipart part and the file name it was sent with (None: sent without one)."""

    data: IO[bytes]
    filename: str | None


def parse_multipart(
    stream: IO[bytes], boundary: bytes, file_fields: tuple[str, ...] = ("fileData",)
) -> tuple[str | None, dict[str, str], dict[str, Part]]:
    """Split a multipart body into the `json` field, other text fields and binary parts.

    A part is binary when it has a filename or its name (after an `N:` multirequest prefix) is one of
    file_fields. The Kaltura client sends a BytesIO without a `name` attribute with no filename: PHP
    treats such a part as a plain form field, so the part keeps filename None and uploadToken.upload
    refuses it (UPLOAD_ERROR) as the server would.
    """
    decoder = MultipartDecoder(boundary)
    parts: dict[str, tuple[bool, IO[bytes], str | None]] = {}
    current: IO[bytes] | None = None
    while True:
        event = decoder.next_event()
        if isinstance(event, NeedData):
            chunk = stream.read(1024 * 1024)
            if not chunk and decoder.complete:
                break
            decoder.receive_data(chunk or None)
            if not chunk:
                break
            continue
        if isinstance(event, Epilogue):
            break
        if isinstance(event, File | Field):
            binary = isinstance(event, File) or event.name.split(":")[-1] in file_fields
            spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
            filename = event.filename if isinstance(event, File) else None
            parts[event.name] = (binary, spool, filename or None)
            current = spool
        elif isinstance(event, Data) and current is not None:
            current.write(event.data)
    fields: dict[str, str] = {}
    files: dict[str, Part] = {}
    for name, (binary, buffer, filename) in parts.items():
        buffer.seek(0)
        if binary:
            files[name] = Part(buffer, filename)
        else:
            fields[name] = buffer.read().decode("utf-8", errors="replace")
    return fields.pop("json", None), fields, files
