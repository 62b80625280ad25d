"""The live environments: each Beanstalk environment of the sandbox runs the web app for real, as a local
process or a Docker container (`instances`, `containers`), started from an application version's
Dockerrun.aws.json (`dockerrun`) with the settings Beanstalk would give it (`app_settings`), and replaced
on each deployment once the new version answers its health check (`environments`, `health_probe`).
Nothing here knows the emulation, the controller or the stack around it."""
