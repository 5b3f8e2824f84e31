package salesforce

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// OutboundMessage is a parsed Salesforce Outbound Message (SOAP notifications request), as POSTed
// by a workflow rule or flow to the worker's /webhooks/salesforce endpoint.
type OutboundMessage struct {
	OrganizationID string
	ActionID       string
	SessionID      string // empty unless the action sends a session id
	EnterpriseURL  string
	PartnerURL     string
	Notifications  []OutboundNotification
}

// OutboundNotification is one changed record. Fields holds the selected fields by API name;
// null fields (xsi:nil) are absent. ID is the notification id (04l…), not the record id
// (Fields["Id"]); a redelivery carries the same notification id, so it serves for deduplication.
type OutboundNotification struct {
	ID     string
	Object string
	Fields map[string]string
}

type obmField struct {
	XMLName xml.Name
	Nil     string `xml:"http://www.w3.org/2001/XMLSchema-instance nil,attr"`
	Value   string `xml:",chardata"`
}

type obmEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Notifications *struct {
			OrganizationID string `xml:"OrganizationId"`
			ActionID       string `xml:"ActionId"`
			SessionID      string `xml:"SessionId"`
			EnterpriseURL  string `xml:"EnterpriseUrl"`
			PartnerURL     string `xml:"PartnerUrl"`
			Notification   []struct {
				ID      string `xml:"Id"`
				SObject struct {
					Type   string     `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
					Fields []obmField `xml:",any"`
				} `xml:"sObject"`
			} `xml:"Notification"`
		} `xml:"http://soap.sforce.com/2005/09/outbound notifications"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// ParseOutboundMessage decodes an Outbound Message SOAP envelope.
func ParseOutboundMessage(body []byte) (*OutboundMessage, error) {
	var env obmEnvelope
	dec := xml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("salesforce: outbound message: %w", err)
	}
	n := env.Body.Notifications
	if n == nil {
		return nil, errors.New("salesforce: outbound message: no notifications element in the SOAP body")
	}
	msg := &OutboundMessage{OrganizationID: n.OrganizationID, ActionID: n.ActionID, SessionID: n.SessionID,
		EnterpriseURL: n.EnterpriseURL, PartnerURL: n.PartnerURL}
	for _, x := range n.Notification {
		typ := x.SObject.Type
		if i := strings.LastIndexByte(typ, ':'); i >= 0 {
			typ = typ[i+1:]
		}
		out := OutboundNotification{ID: x.ID, Object: typ, Fields: make(map[string]string, len(x.SObject.Fields))}
		for _, f := range x.SObject.Fields {
			if f.Nil == "true" || f.Nil == "1" {
				continue
			}
			out.Fields[f.XMLName.Local] = f.Value
		}
		msg.Notifications = append(msg.Notifications, out)
	}
	return msg, nil
}

// OutboundAck returns the SOAP response a receiver sends back; Salesforce retries the message
// (with growing delays, for up to 24 hours) until it gets <Ack>true</Ack> with HTTP 200.
func OutboundAck(ok bool) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">` +
		`<Ack>` + fmt.Sprint(ok) + `</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>`)
}
