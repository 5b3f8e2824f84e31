package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
)

func auditCmd(g *globals) *cobra.Command {
	var sfRef, origin, record string
	var asJSON bool
	var last int
	cmd := &cobra.Command{
		Use:   "audit (--record sf/<id>|jira/<KEY> | --sf <Object>/<id> | --origin <key>) [--last N] [--json]",
		Short: "Show the audit trail of one record: every field written, who wrote it, when, before and after, and in which run",
		Long: `audit shows the append-only audit trail of a record's pair(s): who (the integration user), what (system,
record, action, field), when, the value before and after, the run (workflow id and run id) and why
the value won. Pick the record by --record sf/<Salesforce id> or jira/<issue key or id>, by
--sf <Object>/<id>, or by the pair's --origin key. For retention, 'sfjira audit export' writes
a time window as JSON lines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), cfg.Database.URL)
			if err != nil {
				return err
			}
			defer st.Close()
			var origins []string
			switch {
			case origin != "":
				origins = []string{origin}
			case record != "":
				ref, err := normalizeRecordRef(record)
				if err != nil {
					return err
				}
				if origins, err = st.OriginsForRecord(cmd.Context(), ref); err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("no synced pair holds %s (fix: check the id; `sfjira verify` lists the linked records)", ref)
					}
					return err
				}
			case sfRef != "":
				object, id, ok := strings.Cut(sfRef, "/")
				if !ok {
					return usagef("--sf must look like Opportunity/006…")
				}
				id18, err := salesforce.NormalizeID(id)
				if err != nil {
					return usagef("--sf %s: %v", sfRef, err)
				}
				m, err := pairFor(cfg, object)
				if err != nil {
					return err
				}
				l, err := st.LinkBySalesforceID(cmd.Context(), m.Pair, id18)
				if err != nil {
					return fmt.Errorf("no pair for %s %s: %w", object, id18, err)
				}
				origins = []string{l.OriginKey}
			default:
				return usagef("give --record sf/<id>|jira/<KEY>, --sf <Object>/<id> or --origin <key>")
			}
			var rows []store.AuditEntry
			for _, o := range origins {
				r, err := st.AuditFor(cmd.Context(), o)
				if err != nil {
					return err
				}
				rows = append(rows, r...)
			}
			if last > 0 && len(rows) > last {
				rows = rows[len(rows)-last:]
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(rows)
			}
			fmt.Fprintf(out, "audit of %s (%d rows)\n", strings.Join(origins, ", "), len(rows))
			for _, r := range rows {
				why := r.DecidedBy
				if why == "" {
					why = "-"
				}
				lat := ""
				if r.LatencyMS != nil {
					lat = fmt.Sprintf(" %dms", *r.LatencyMS)
				}
				fmt.Fprintf(out, "%s  %-10s %-10s %-22s %q → %q  (%s%s; by %s, run %s)\n", r.At.Format("2006-01-02 15:04:05.000"), r.TargetSystem, r.Action, r.Field,
					deref(r.Before), deref(r.After), why, lat, r.Actor, r.RunID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&record, "record", "", "the record as sf/<Salesforce id> or jira/<issue key or id>")
	cmd.Flags().StringVar(&sfRef, "sf", "", "Salesforce record as <Object>/<id>")
	cmd.Flags().StringVar(&origin, "origin", "", "the pair's origin key")
	cmd.Flags().IntVar(&last, "last", 0, "only the last N rows")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.AddCommand(auditExportCmd(g))
	return cmd
}

// normalizeRecordRef checks a --record value and brings Salesforce ids to 18 characters.
func normalizeRecordRef(ref string) (string, error) {
	system, id, ok := strings.Cut(ref, "/")
	if !ok || id == "" {
		return "", usagef("--record must look like sf/006… or jira/SFJ-12")
	}
	switch system {
	case "sf":
		id18, err := salesforce.NormalizeID(id)
		if err != nil {
			return "", usagef("--record %s: %v", ref, err)
		}
		return "sf/" + id18, nil
	case "jira":
		return "jira/" + strings.ToUpper(id), nil
	}
	return "", usagef("--record %s: the system must be sf or jira", ref)
}

// parseSince accepts an RFC 3339 time, a date, or a duration back from now (e.g. 720h).
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a time (2026-01-31, 2026-01-31T12:00:00Z) nor a duration (720h)", s)
}

func auditExportCmd(g *globals) *cobra.Command {
	var since, until, format, output string
	cmd := &cobra.Command{
		Use:   "export --since <time|duration> [--until <time>] [--format jsonl] [-o FILE]",
		Short: "Write the audit rows of a time window as JSON lines, for retention outside the database",
		Long: `export streams every audit row written in [--since, --until) as one JSON object per line:
id, at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system, target_id,
action, field, before, after, mapping_version, latency_ms, decided_by. Rows come in write order, so
consecutive windows concatenate without gaps or duplicates. The audit table itself is append-only:
archive, then drop old partitions or rows as the database owner, never as the application role.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "jsonl" {
				return usagef("--format %s: only jsonl is supported", format)
			}
			if since == "" {
				return usagef("--since is required (e.g. --since 2026-01-01 or --since 720h)")
			}
			now := time.Now()
			from, err := parseSince(since, now)
			if err != nil {
				return usagef("--since: %v", err)
			}
			to := now.Add(time.Second)
			if until != "" {
				if to, err = parseSince(until, now); err != nil {
					return usagef("--until: %v", err)
				}
			}
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), cfg.Database.URL)
			if err != nil {
				return err
			}
			defer st.Close()
			var w io.Writer = cmd.OutOrStdout()
			if output != "" && output != "-" {
				f, err := os.OpenFile(output, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
				if err != nil {
					return fmt.Errorf("export file: %w (fix: pick a new file name; export never overwrites)", err)
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriter(w)
			enc := json.NewEncoder(bw)
			n, err := st.ExportAudit(cmd.Context(), from, to, func(a store.AuditRecord) error { return enc.Encode(a) })
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d audit rows from %s to %s\n", n, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "start of the window: a time (2026-01-31, RFC 3339) or a duration back from now (720h)")
	cmd.Flags().StringVar(&until, "until", "", "end of the window (exclusive; default now)")
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format (jsonl)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this new file instead of stdout (created 0600)")
	return cmd
}
