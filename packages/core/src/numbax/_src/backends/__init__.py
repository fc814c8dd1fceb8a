"""Code generation backends for numbax.jit (shared planner, cpu, cache) and their math kernels."""
