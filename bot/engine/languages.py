"""Which language a path is in: readable type name, fence tag, analyser and config switch."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """How one kind of file is named, fenced and analysed."""

    key: str  # analyser key: python, c, cpp, cuda, javascript, typescript, tsx, go, rust, java, bash, markdown, yaml, toml, json, text
    type_name: str
    fence: str
    switch: str  # the config's per-language switch


def _lang(key: str, type_name: str, fence: str, switch: str) -> Language:
    return Language(key, type_name, fence, switch)


_BY_EXT: dict[str, Language] = {
    ".py": _lang("python", "Python Source Code", "python", "python"),
    ".pyi": _lang("python", "Python Type Stub", "python", "python"),
    ".c": _lang("c", "C Source Code", "c", "c"),
    ".h": _lang("cpp", "C/C++ Header File", "c", "cpp"),
    ".cc": _lang("cpp", "C++ Source Code", "cpp", "cpp"),
    ".cpp": _lang("cpp", "C++ Source Code", "cpp", "cpp"),
    ".cxx": _lang("cpp", "C++ Source Code", "cpp", "cpp"),
    ".hpp": _lang("cpp", "C++ Header File", "cpp", "cpp"),
    ".hh": _lang("cpp", "C++ Header File", "cpp", "cpp"),
    ".hxx": _lang("cpp", "C++ Header File", "cpp", "cpp"),
    ".cu": _lang("cuda", "CUDA Source Code", "cuda", "cuda"),
    ".cuh": _lang("cuda", "CUDA Header File", "cuda", "cuda"),
    ".js": _lang("javascript", "JavaScript Source Code", "javascript", "javascript"),
    ".mjs": _lang("javascript", "JavaScript Module", "javascript", "javascript"),
    ".cjs": _lang("javascript", "CommonJS Module", "javascript", "javascript"),
    ".jsx": _lang("javascript", "JavaScript (JSX) Source Code", "jsx", "javascript"),
    ".ts": _lang("typescript", "TypeScript Source Code", "typescript", "typescript"),
    ".tsx": _lang("tsx", "TypeScript (TSX) Source Code", "tsx", "typescript"),
    ".go": _lang("go", "Go Source Code", "go", "go"),
    ".rs": _lang("rust", "Rust Source Code", "rust", "rust"),
    ".java": _lang("java", "Java Source Code", "java", "java"),
    ".sh": _lang("bash", "Shell Script", "bash", "shell"),
    ".bash": _lang("bash", "Shell Script", "bash", "shell"),
    ".md": _lang("markdown", "Markdown Documentation", "markdown", "text"),
    ".markdown": _lang("markdown", "Markdown Documentation", "markdown", "text"),
    ".rst": _lang("rst", "reStructuredText Documentation", "rst", "text"),
    ".yml": _lang("yaml", "YAML Configuration", "yaml", "text"),
    ".yaml": _lang("yaml", "YAML Configuration", "yaml", "text"),
    ".toml": _lang("toml", "TOML Configuration", "toml", "text"),
    ".json": _lang("json", "JSON Data", "json", "text"),
    ".cfg": _lang("ini", "INI Configuration", "ini", "text"),
    ".ini": _lang("ini", "INI Configuration", "ini", "text"),
    ".cmake": _lang("cmake", "CMake Script", "cmake", "text"),
    ".txt": _lang("text", "Plain Text", "text", "text"),
    ".html": _lang("text", "HTML Document", "html", "text"),
    ".css": _lang("text", "CSS Stylesheet", "css", "text"),
    ".xml": _lang("text", "XML Document", "xml", "text"),
    ".sql": _lang("text", "SQL Script", "sql", "text"),
    ".po": _lang("text", "Gettext Translation", "po", "text"),
}
_BY_NAME: dict[str, Language] = {
    "CMakeLists.txt": _lang("cmake", "CMake Build Script", "cmake", "text"),
    "Makefile": _lang("text", "Makefile", "makefile", "text"),
    "Dockerfile": _lang("text", "Dockerfile", "dockerfile", "text"),
    "LICENSE": _lang("text", "License Text", "text", "text"),
}
_UNKNOWN = Language("text", "Text File", "text", "text")


def language_of(path: str, first_line: bytes = b"") -> Language:
    """The language of a file, from its name, else its extension, else its shebang."""
    name = posixpath.basename(path)
    if name in _BY_NAME:
        return _BY_NAME[name]
    ext = extension_of(path).lower()
    if ext in _BY_EXT:
        return _BY_EXT[ext]
    if first_line.startswith(b"#!"):
        if b"python" in first_line:
            return _BY_EXT[".py"]
        if any(shell in first_line for shell in (b"/sh", b"bash", b"zsh")):
            return _BY_EXT[".sh"]
    if ext:
        return Language("text", f"{ext[1:].upper()} File", "text", "text")
    return _UNKNOWN


def extension_of(path: str) -> str:
    """The extension with its dot, or '' (a leading dot is a hidden file, not an extension)."""
    name = posixpath.basename(path)
    stem, ext = posixpath.splitext(name)
    return ext if stem else ""
