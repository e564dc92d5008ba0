"""The live demo behind ``mlvitals demo``: a real model service, traffic, pipelines, incidents."""
