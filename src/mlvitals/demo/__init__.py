"""The live demo behind ``mlvitals demo``: a real model service, traffic, pipelines, cost,
and a timeline of staged incidents with their alerts (see ``docs/demo.md``)."""
