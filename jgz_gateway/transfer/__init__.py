"""Dossier transfer between organisations: PKI, signing, directory, audit, outbox, receiver, transports."""
