"""Reading results back: intervals, comparisons, the diagnosis, verdicts and headlines."""
