"""jgz-gateway: reference gateway for the Dutch youth-health-care digital dossier (DD JGZ)."""

__version__ = "0.1.0"
