"""The two engines that execute a plan, and what they share.

* :mod:`~drsim.engine.draws` — every random number a drill needs, by named stream;
* :mod:`~drsim.engine.des` — SimPy, one replay event by event, with a timeline;
* :mod:`~drsim.engine.vectorized` and :mod:`~drsim.engine.kernel` — a compiled event loop
  over arrays of replicates, giving the same times to the bit;
* :mod:`~drsim.engine.finish` — the :class:`~drsim.engine.finish.FinishTimes` both return;
* :mod:`~drsim.engine.outcomes` — RTO, RPO, queues and decisions scored from those times.
"""
