"""The imperative shell around the core: one reconcile tick loads a record, observes what the step needs
(`observe`), decides (`controller.core.reconcile`), saves (`store`), performs the actions (`perform`) and
requeues itself (`tick_queue`). `runtime.Runtime` owns the clients, the signing secret and the queue."""
