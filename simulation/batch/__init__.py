"""Many runs: replications and seeds, designs, execution, results store, estimator."""
