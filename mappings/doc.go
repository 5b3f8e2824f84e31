// Package mappings implements sfjira's declarative YAML mapping language (version 1):
// loading and validating mapping files with file:line:col errors, binding Jira field
// references to field ids, and the pure, deterministic transforms between Salesforce
// record values, Jira REST v3 wire values and canonical projections.
//
// The package is deliberately pure (no network, no Temporal) so that activities and the
// CLI can call it freely and a mapping change never affects workflow replay.
package mappings
