"""Calibration: the estate's distributions fitted to the team's own incident history and drill journals.

* :mod:`~drsim.calibrate.records` — the shape every source is read into, and CSV/timestamp reading with
  file, line and column in every error;
* :mod:`~drsim.calibrate.pagerduty`, :mod:`~drsim.calibrate.opsgenie` — on-call tools' incident exports;
* :mod:`~drsim.calibrate.chaostoolkit` — Chaos Toolkit ``journal.json`` files;
* :mod:`~drsim.calibrate.steps` — plain CSVs of timed steps;
* :mod:`~drsim.calibrate.sources` — which reader a file needs;
* :mod:`~drsim.calibrate.mapping` — which model element each record feeds;
* :mod:`~drsim.calibrate.fit` — maximum-likelihood fits with censoring, AIC, goodness of fit, bootstrap;
* :mod:`~drsim.calibrate.run` — :func:`calibrate`: read, select, fit, and write an overlay;
* :mod:`~drsim.calibrate.observed` — real drills' observed milestone and recovery times;
* :mod:`~drsim.calibrate.backtest` — the model scored against them: PIT, interval coverage, CRPS, a verdict.
"""
