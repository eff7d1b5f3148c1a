"""Seeding from a CloudFormation template (infra/template.yaml): load, resolve, turn into a config."""
