"""The pure docs engine: paths, bytes and config in; markdown pages and folder state out."""

from .config import CONFIG_PATH, Config, ConfigError, parse_config
from .file_pages import FAILED, FileResult, blob_id, not_documented, page_names, render_file, too_large
from .tree import MANIFEST, STATE, FolderBuilder, FolderState, Update, build, manifest_text, parse_state

__all__ = [
    "CONFIG_PATH",
    "FAILED",
    "MANIFEST",
    "STATE",
    "Config",
    "ConfigError",
    "FileResult",
    "FolderBuilder",
    "FolderState",
    "Update",
    "blob_id",
    "build",
    "manifest_text",
    "not_documented",
    "page_names",
    "parse_config",
    "parse_state",
    "render_file",
    "too_large",
]
