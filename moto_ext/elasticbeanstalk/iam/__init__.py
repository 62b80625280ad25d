"""IAM as Elastic Beanstalk meets it: who called (`callers`), what Beanstalk does downstream with whose
permissions (`downstream`), the roles an environment names (`roles`), and how a policy is judged (`judge`)."""
