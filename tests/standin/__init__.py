"""A GitHub stand-in for the tests: an aiohttp server over real git repositories, checked against
GitHub's published OpenAPI description."""
