"""The two engines that execute a plan: ``des`` (SimPy, one replay with a timeline)
and ``vectorized`` (compiled event loop over arrays of replicates)."""
