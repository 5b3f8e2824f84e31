package salesforce

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	mrand "math/rand"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// OutboundConfig is one Outbound Message action: on every API create or update of Object, a SOAP
// notification with Fields (Id is always included) is POSTed to URL.
type OutboundConfig struct {
	Object   string   `json:"object"`
	URL      string   `json:"url"`
	Fields   []string `json:"fields"`
	ActionID string   `json:"action_id,omitempty"` // 04k…; assigned when empty
}

// OutboundItem is one queued notification as shown by GET /__admin/outbound/queue.
type OutboundItem struct {
	ID          string    `json:"id"` // notification id, 04l…
	ActionID    string    `json:"action_id"`
	Object      string    `json:"object"`
	RecordID    string    `json:"record_id"`
	URL         string    `json:"url"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	Created     time.Time `json:"created"`
	LastError   string    `json:"last_error,omitempty"`
}

// OutboundStatus is the delivery queue and its counters.
type OutboundStatus struct {
	Queue          []OutboundItem `json:"queue"`
	Messages       int            `json:"messages"`        // SOAP messages acknowledged
	Delivered      int            `json:"delivered"`       // notifications acknowledged
	Dropped        int            `json:"dropped"`         // notifications lost by outbound_drop_rate
	Duplicated     int            `json:"duplicated"`      // messages sent twice by outbound_dup_rate
	FailedAttempts int            `json:"failed_attempts"` // deliveries not acknowledged (will retry)
	Expired        int            `json:"expired"`         // given up after 24 hours
}

type outNote struct {
	OutboundItem
	xml      []byte // rendered <sObject> element
	inFlight bool
}

// outbound is the delivery machinery of Outbound Messages; its mutex is taken after Server.mu, never before.
type outbound struct {
	mu      sync.Mutex
	configs []OutboundConfig
	queue   []*outNote
	seq     uint64
	stats   OutboundStatus
	started bool
	wake    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}

	drop, dup float64
	reorder   bool
	hold      time.Duration
	rnd       *mrand.Rand

	base, max time.Duration
	client    *http.Client
	lastBase  atomic.Value // string: instance URL seen on the latest request, for EnterpriseUrl
}

const outboundMaxAge = 24 * time.Hour

func (s *Server) initOutbound() {
	o := &s.out
	o.wake = make(chan struct{}, 1)
	o.ctx, o.cancel = context.WithCancel(context.Background())
	o.done = make(chan struct{})
	o.base, o.max = s.opts.OutboundRetryBase, s.opts.OutboundRetryMax
	if o.base <= 0 {
		o.base = time.Second
	}
	if o.max <= 0 {
		o.max = 2 * time.Hour
	}
	o.client = s.opts.OutboundHTTPClient
	if o.client == nil {
		o.client = &http.Client{Timeout: 60 * time.Second}
	}
	o.rnd = mrand.New(mrand.NewSource(7))
	o.hold = 200 * time.Millisecond
	o.lastBase.Store("http://127.0.0.1")
	for _, c := range s.opts.Outbound {
		_, _ = s.AddOutbound(c)
	}
}

func (o *outbound) setFaults(f Faults, seed int64) {
	o.mu.Lock()
	o.drop, o.dup, o.reorder = f.OutboundDropRate, f.OutboundDupRate, f.OutboundReorder
	o.hold = 200 * time.Millisecond
	if f.OutboundReorderHoldMS > 0 {
		o.hold = time.Duration(f.OutboundReorderHoldMS) * time.Millisecond
	}
	o.rnd = mrand.New(mrand.NewSource(seed))
	o.mu.Unlock()
	o.poke()
}

func (o *outbound) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// AddOutbound activates an Outbound Message action and returns it with its ActionID.
func (s *Server) AddOutbound(c OutboundConfig) (OutboundConfig, error) {
	obj := s.schema.object(c.Object)
	if obj == nil {
		return c, fmt.Errorf("unknown sObject %q", c.Object)
	}
	c.Object = obj.Name
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("url %q must be an absolute http(s) URL", c.URL)
	}
	fields := []string{"Id"}
	for _, name := range c.Fields {
		f := obj.field(name)
		if f == nil {
			return c, fmt.Errorf("no field %q on %s", name, obj.Name)
		}
		if f.Name != "Id" {
			fields = append(fields, f.Name)
		}
	}
	c.Fields = fields
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if c.ActionID == "" {
		o.seq++
		c.ActionID = makeID("04k", idCounterStart+o.seq*104729)
	}
	o.configs = append(o.configs, c)
	return c, nil
}

// OutboundConfigs lists the active Outbound Message actions.
func (s *Server) OutboundConfigs() []OutboundConfig {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return append([]OutboundConfig{}, s.out.configs...)
}

// ClearOutbound removes every Outbound Message action and drops the pending queue.
func (s *Server) ClearOutbound() {
	s.out.mu.Lock()
	s.out.configs = nil
	s.out.queue = nil
	s.out.mu.Unlock()
}

// OutboundQueue returns the pending notifications and delivery counters.
func (s *Server) OutboundQueue() OutboundStatus {
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	st := o.stats
	st.Queue = make([]OutboundItem, 0, len(o.queue))
	for _, n := range o.queue {
		st.Queue = append(st.Queue, n.OutboundItem)
	}
	return st
}

// Close stops outbound message delivery; the Server still answers HTTP requests.
func (s *Server) Close() {
	s.out.mu.Lock()
	started := s.out.started
	s.out.started = true // no restart after Close
	s.out.mu.Unlock()
	s.out.cancel()
	if started {
		<-s.out.done
	} else {
		select {
		case <-s.out.done:
		default:
			close(s.out.done)
		}
	}
}

// commitLocked turns the records written by the current request into outbound notifications.
// Caller holds s.mu (write).
func (s *Server) commitLocked() {
	changes := s.st.changes
	s.st.changes = s.st.changes[:0]
	if len(changes) == 0 {
		return
	}
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.configs) == 0 || o.ctx.Err() != nil {
		return
	}
	now := time.Now()
	added := false
	for _, rec := range changes {
		for _, c := range o.configs {
			if c.Object != rec.obj.Name {
				continue
			}
			o.seq++
			n := &outNote{OutboundItem: OutboundItem{
				ID: makeID("04l", idCounterStart+o.seq*7901), ActionID: c.ActionID, Object: c.Object,
				RecordID: rec.id, URL: c.URL, NextAttempt: now, Created: now,
			}}
			n.xml = renderSObjectXML(rec, c.Fields)
			o.queue = append(o.queue, n)
			added = true
		}
	}
	if added {
		if !o.started {
			o.started = true
			go s.outboundLoop()
		}
		o.poke()
	}
}

func soapValue(f *fieldDef, v any) string {
	switch x := v.(type) {
	case string:
		if f.Type == "datetime" {
			if t, err := time.Parse(sfDateTime, x); err == nil {
				return t.UTC().Format("2006-01-02T15:04:05.000Z")
			}
		}
		return x
	case float64:
		if f.Type == "int" {
			return strconv.FormatInt(int64(x), 10)
		}
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func renderSObjectXML(rec *record, fields []string) []byte {
	var b bytes.Buffer
	b.WriteString(`<sObject xsi:type="sf:`)
	b.WriteString(rec.obj.Name)
	b.WriteString(`" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">`)
	for _, name := range fields {
		f := rec.obj.field(name)
		v := rec.vals[f.Name]
		if v == nil {
			fmt.Fprintf(&b, `<sf:%s xsi:nil="true"/>`, f.Name)
			continue
		}
		fmt.Fprintf(&b, "<sf:%s>", f.Name)
		_ = xml.EscapeText(&b, []byte(soapValue(f, v)))
		fmt.Fprintf(&b, "</sf:%s>", f.Name)
	}
	b.WriteString("</sObject>")
	return b.Bytes()
}

// envelope renders the SOAP 1.1 notifications message for notes of one action.
func (s *Server) envelope(actionID string, notes []*outNote) []byte {
	base, _ := s.out.lastBase.Load().(string)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`)
	b.WriteString(`<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">`)
	fmt.Fprintf(&b, "<OrganizationId>%s</OrganizationId><ActionId>%s</ActionId><SessionId xsi:nil=\"true\"/>", s.orgID, actionID)
	b.WriteString("<EnterpriseUrl>")
	_ = xml.EscapeText(&b, []byte(base+"/services/Soap/c/62.0/"+s.orgID[:15]))
	b.WriteString("</EnterpriseUrl><PartnerUrl>")
	_ = xml.EscapeText(&b, []byte(base+"/services/Soap/u/62.0/"+s.orgID[:15]))
	b.WriteString("</PartnerUrl>")
	for _, n := range notes {
		fmt.Fprintf(&b, "<Notification><Id>%s</Id>", n.ID)
		b.Write(n.xml)
		b.WriteString("</Notification>")
	}
	b.WriteString("</notifications></soapenv:Body></soapenv:Envelope>")
	return b.Bytes()
}

// outMessage is one SOAP message about to be sent.
type outMessage struct {
	actionID, url string
	notes         []*outNote
}

// nextMessages picks what to send now, or how long to wait. Caller holds o.mu.
func (o *outbound) nextMessages(now time.Time) ([]outMessage, time.Duration) {
	wait := time.Hour
	var due []*outNote
	kept := o.queue[:0]
	for _, n := range o.queue {
		if now.Sub(n.Created) > outboundMaxAge && !n.inFlight {
			o.stats.Expired++
			continue
		}
		kept = append(kept, n)
		if n.inFlight {
			continue
		}
		if d := n.NextAttempt.Sub(now); d > 0 {
			wait = min(wait, d)
			continue
		}
		due = append(due, n)
	}
	o.queue = kept
	if len(due) == 0 {
		return nil, wait
	}
	if o.reorder {
		// Hold the oldest first attempt for the hold time so later notifications overtake it.
		if d := due[0].Created.Add(o.hold).Sub(now); d > 0 && due[0].Attempts == 0 {
			return nil, min(wait, d)
		}
		msgs := make([]outMessage, 0, len(due))
		for i := len(due) - 1; i >= 0; i-- {
			n := due[i]
			n.inFlight = true
			msgs = append(msgs, outMessage{n.ActionID, n.URL, []*outNote{n}})
		}
		return msgs, 0
	}
	first := due[0]
	msg := outMessage{actionID: first.ActionID, url: first.URL}
	for _, n := range due {
		if n.ActionID == first.ActionID && len(msg.notes) < 100 {
			n.inFlight = true
			msg.notes = append(msg.notes, n)
		}
	}
	return []outMessage{msg}, 0
}

func (s *Server) outboundLoop() {
	o := &s.out
	defer close(o.done)
	for {
		o.mu.Lock()
		msgs, wait := o.nextMessages(time.Now())
		o.mu.Unlock()
		if len(msgs) == 0 {
			t := time.NewTimer(wait)
			select {
			case <-o.wake:
			case <-t.C:
			case <-o.ctx.Done():
				t.Stop()
				return
			}
			t.Stop()
			continue
		}
		for _, m := range msgs {
			if o.ctx.Err() != nil {
				return
			}
			s.sendMessage(m)
		}
	}
}

func (s *Server) sendMessage(m outMessage) {
	o := &s.out
	o.mu.Lock()
	drop := o.drop > 0 && o.rnd.Float64() < o.drop
	dup := o.dup > 0 && o.rnd.Float64() < o.dup
	o.mu.Unlock()
	if drop {
		o.finish(m.notes, nil, true, false)
		return
	}
	body := s.envelope(m.actionID, m.notes)
	err := o.post(m.url, body)
	if err == nil && dup {
		_ = o.post(m.url, body)
	}
	o.finish(m.notes, err, false, dup && err == nil)
}

// finish removes acknowledged (or dropped) notes and schedules retries for failed ones.
func (o *outbound) finish(notes []*outNote, err error, dropped, duplicated bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	if err != nil {
		o.stats.FailedAttempts++
		for _, n := range notes {
			n.inFlight = false
			n.Attempts++
			n.LastError = err.Error()
			d := o.base << min(n.Attempts-1, 30)
			if d <= 0 || d > o.max {
				d = o.max
			}
			n.NextAttempt = now.Add(d)
		}
		return
	}
	gone := map[*outNote]bool{}
	for _, n := range notes {
		gone[n] = true
	}
	kept := o.queue[:0]
	for _, n := range o.queue {
		if !gone[n] {
			kept = append(kept, n)
		}
	}
	o.queue = kept
	if dropped {
		o.stats.Dropped += len(notes)
		return
	}
	o.stats.Messages++
	o.stats.Delivered += len(notes)
	if duplicated {
		o.stats.Duplicated++
	}
}

// post sends one SOAP message; only HTTP 200 with <Ack>true</Ack> counts as delivered.
func (o *outbound) post(target string, body []byte) error {
	req, err := http.NewRequestWithContext(o.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `""`)
	req.Header.Set("User-Agent", "Salesforce - OutboundMessage")
	resp, err := o.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if !ackTrue(rb) {
		return errors.New("no <Ack>true</Ack> in response")
	}
	return nil
}

func ackTrue(b []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(b))
	inAck := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inAck = t.Name.Local == "Ack"
		case xml.CharData:
			if inAck && strings.TrimSpace(string(t)) == "true" {
				return true
			}
		case xml.EndElement:
			inAck = false
		}
	}
}
