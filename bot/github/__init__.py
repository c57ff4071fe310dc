"""GitHub work: App authentication, the API client, and the docs sync of one branch."""
