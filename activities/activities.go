// Package activities holds the fetch, transform, write, verify and record steps of a sync. Each
// activity is thin: it calls the Salesforce and Jira clients, the mapping compiler and the store,
// and classifies every failure into a catalog code at the edge.
package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/budget"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// Activities holds the dependencies every sync activity needs. The worker registers one instance;
// workflows reference its methods through a nil *Activities.
type Activities struct {
	SF       *salesforce.Client
	Jira     *jira.Client
	Store    *store.Store
	Mappings *MappingSet
	Log      *zap.Logger
	// Syncs hands change events to the pairs' RecordSync workflows (Signal-With-Start); set by
	// the worker, nil in the CLI.
	Syncs SyncStarter
	// Metrics may be nil.
	Metrics *metrics.Metrics
	// SearchLagWindow bounds how long a retried create waits for Jira's search index; 0 means
	// DefaultSearchLagWindow.
	SearchLagWindow time.Duration
	// Actor is written to audit rows as the writer (the integration user).
	Actor string
	// Budget slows and pauses batch work as the API budgets run low; nil admits everything.
	Budget *budget.Guard
	// AuditPII is config audit.pii: hash ("" means hash) or clear, for PII-marked fields.
	AuditPII string
	// Keyring keys the audit's PII hashes; nil stores PIIRedactedValue instead of a hash.
	Keyring *codec.Keyring
}

// MappingSet is the loaded mapping files, bound to the Jira site's field ids on first use.
type MappingSet struct {
	jira   *jira.Client
	byPair map[string]*mappings.Mapping

	mu    sync.Mutex
	bound map[string]*mappings.Bound
	users *jiraUsers // user fields' e-mail ↔ accountId directory, created on first use
}

// NewMappingSet indexes mappings by pair name; pair names must be unique.
func NewMappingSet(ms []*mappings.Mapping, jc *jira.Client) (*MappingSet, error) {
	s := &MappingSet{jira: jc, byPair: map[string]*mappings.Mapping{}, bound: map[string]*mappings.Bound{}}
	for _, m := range ms {
		if prev, ok := s.byPair[m.Pair]; ok {
			return nil, fmt.Errorf("mapping pair %q is defined twice: %s and %s (fix: give each file its own `pair:`)", m.Pair, prev.File, m.File)
		}
		s.byPair[m.Pair] = m
	}
	return s, nil
}

// Mapping returns the mapping of a pair, or a non-retryable MAPPING_UNKNOWN_PAIR error.
func (s *MappingSet) Mapping(pair string) (*mappings.Mapping, error) {
	m, ok := s.byPair[pair]
	if !ok {
		return nil, newError(catalog.MappingUnknownPair, fmt.Sprintf("no mapping defines pair %q (loaded: %v)", pair, s.Pairs()), nil)
	}
	return m, nil
}

// Pairs lists the loaded pair names in order.
func (s *MappingSet) Pairs() []string {
	out := make([]string, 0, len(s.byPair))
	for p := range s.byPair {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// ForObject returns the first pair (by name) that syncs the given Salesforce object.
func (s *MappingSet) ForObject(object string) (*mappings.Mapping, error) {
	for _, p := range s.Pairs() {
		if m := s.byPair[p]; equalFold(m.Salesforce.Object, object) {
			return m, nil
		}
	}
	return nil, newError(catalog.MappingUnknownPair, fmt.Sprintf("no mapping syncs Salesforce object %q (loaded pairs: %v)", object, s.Pairs()), nil)
}

// Bound returns the pair's mapping bound to Jira field ids, reading GET /field once per worker.
func (s *MappingSet) Bound(ctx context.Context, pair string) (*mappings.Bound, error) {
	m, err := s.Mapping(pair)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bound[pair]; ok {
		return b, nil
	}
	fields, err := s.jira.Fields(ctx)
	if err != nil {
		return nil, classify(err)
	}
	jf := make([]mappings.JiraField, 0, len(fields))
	for _, f := range fields {
		jf = append(jf, mappings.JiraField{ID: f.ID, Name: f.Name, SchemaType: f.Schema.Type, SchemaItems: f.Schema.Items, SchemaCustom: f.Schema.Custom})
	}
	b, err := m.Bind(jf)
	if err != nil {
		return nil, newError(catalog.MappingBindFailed, err.Error(), nil)
	}
	if b.HasUserFields() {
		if s.users == nil {
			s.users = newJiraUsers(s.jira)
		}
		b.Users = s.users
	}
	s.bound[pair] = b
	return b, nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

// CheckLive checks every loaded mapping against the live systems: Salesforce fields through
// describe (existence, types, updateability, the external-id back-link) and Jira fields through
// GET /field. Mapping problems come back as a mappings.ErrorList naming file, line and fix;
// an unreachable system comes back as a plain error so a caller can tell the two apart.
func (s *MappingSet) CheckLive(ctx context.Context, sf *salesforce.Client) error {
	var problems mappings.ErrorList
	for _, p := range s.Pairs() {
		m := s.byPair[p]
		var transport error
		err := m.CheckSalesforce(func(object string) (*mappings.SFObject, error) {
			d, err := sf.Describe(ctx, object)
			if err != nil {
				var apiErr *salesforce.APIError
				if !errors.As(err, &apiErr) {
					transport = err
				}
				return nil, err
			}
			out := &mappings.SFObject{Name: d.Name}
			for _, f := range d.Fields {
				out.Fields = append(out.Fields, mappings.SFField{Name: f.Name, Type: f.Type, Length: f.Length, ExternalID: f.ExternalID,
					Createable: f.Createable, Updateable: f.Updateable, ReferenceTo: f.ReferenceTo, RelationshipName: f.RelationshipName})
			}
			return out, nil
		})
		if transport != nil {
			return fmt.Errorf("could not check mapping %s against Salesforce: %w", m.File, transport)
		}
		var list mappings.ErrorList
		if errors.As(err, &list) {
			problems = append(problems, list...)
		} else if err != nil {
			return err
		}
		fields, err := s.jira.Fields(ctx)
		if err != nil {
			return fmt.Errorf("could not check mapping %s against Jira: %w", m.File, err)
		}
		jf := make([]mappings.JiraField, 0, len(fields))
		for _, f := range fields {
			jf = append(jf, mappings.JiraField{ID: f.ID, Name: f.Name, SchemaType: f.Schema.Type, SchemaItems: f.Schema.Items, SchemaCustom: f.Schema.Custom})
		}
		if _, err := m.Bind(jf); err != nil {
			if errors.As(err, &list) {
				problems = append(problems, list...)
			} else {
				return err
			}
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}
