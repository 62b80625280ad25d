"""An environment's option settings (`options`) and what enhanced health makes of them (`health`)."""
