"""Code that runs in AWS (Lambda functions), shipped by the components as assets."""
