"""The HTTP edge of the GitHub App: aiohttp server, signature checks, event routing."""
