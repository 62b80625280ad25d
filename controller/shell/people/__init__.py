"""Telling people, and letting them act from where they are: the announcements a tick sends after it saved a
change (GitHub deployments, chat, the metrics line), the webhook delivery they share, the one-click links and
their pages, and what the dashboard reads. Nothing here decides a deployment's next step."""
