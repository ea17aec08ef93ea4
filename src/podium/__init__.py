"""podium: champion/challenger CI/CD/CT for machine-learning models on GitHub Actions.

Layers, imports pointing down only (docs/architecture.md; tests/test_architecture.py):
cli -> stages/ (one skeleton per stage) -> engine/ (`Engine`: pandas, Spark, SQL, picked
by `engine.pick(config)`) -> core (data, drift, slices, gates, scoring, results, ...);
registry/ beside them, its lock, audit and champion speaking to a `Store` interface.
"""

__version__ = "0.1.0"
