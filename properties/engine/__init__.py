"""The engine: specs and their registry, strategies, tolerances, the generic properties, and the
one function that runs a property under Hypothesis for every front-end."""
