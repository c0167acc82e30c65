"""Kaltura API v3 emulator: wire protocol, semantics, limits and faults for tests and the demo."""

from dev.kaltura_emulator.control import EmulatorControl

__all__ = ["EmulatorControl"]
