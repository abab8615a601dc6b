"""The model: FrictionModel, its agents, the deal book, one module per mechanism, KPIs."""
