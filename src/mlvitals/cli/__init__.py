"""The ``mlvitals`` command line."""
