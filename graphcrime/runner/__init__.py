"""Jobs: spec validation, the load -> reason -> query pipeline, outputs, the watched folder.

- :func:`graphcrime.runner.spec.load_spec` -> :class:`JobSpec` (SpecError names the JSON path)
- :func:`graphcrime.runner.pipeline.run_job` -> :class:`JobOutcome` (never raises for a job)
- :class:`graphcrime.runner.watch.Watcher` (``graphcrime watch``), one worker process per job
- :func:`graphcrime.runner.graphstore.load_job` (``graphcrime load``, SPARQL Graph Store PUT)
- :class:`graphcrime.runner.notify.Notifier`, :func:`graphcrime.runner.demo.run_demo`
"""
