"""repodoc: a GitHub App and a command that keep a generated docs tree in step with the code."""

__version__ = "0.2.0"  # in every manifest: pages made by another version are remade
