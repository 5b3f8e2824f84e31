package codec

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Payload metadata written by the encryption codec. The encoding value follows the convention of
// Temporal's samples so tools recognise an encrypted payload.
const (
	MetadataEncoding  = "encoding"
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
	MetadataCipher    = "encryption-cipher"
	CipherAESGCM      = "AES256-GCM"
)

// PayloadCodec encrypts whole Temporal payloads (data and metadata, so even the original
// encoding is hidden) with the keyring's active key and records the key id, so payloads written
// before a key rotation still decode.
type PayloadCodec struct {
	Keys *Keyring
}

var aadPayload = []byte("sfjira/temporal-payload/v1")

// Encode implements converter.PayloadCodec.
func (c *PayloadCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		raw, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		id, sealed, err := c.Keys.Seal(raw, aadPayload)
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(id),
				MetadataCipher:   []byte(CipherAESGCM),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec. Payloads this codec did not write (histories
// recorded before encryption was turned on) pass through unchanged.
func (c *PayloadCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.Metadata[MetadataKeyID])
		raw, err := c.Keys.Open(id, p.Data, aadPayload)
		if err != nil {
			return nil, err
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(raw, &dec); err != nil {
			return nil, fmt.Errorf("codec: unmarshal decrypted payload: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

// Codecs returns the codec chain in the order Temporal expects (applied last to first on
// encode): payloads are compressed first and then encrypted, because ciphertext does not compress.
func Codecs(keys *Keyring) []converter.PayloadCodec {
	return []converter.PayloadCodec{
		&PayloadCodec{Keys: keys},
		converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: false}),
	}
}

// DataConverter wraps Temporal's default converter with compression and encryption.
func DataConverter(keys *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), Codecs(keys)...)
}

// FailureConverter makes failure messages and stack traces travel as an encoded payload too, so
// error text that quotes record data (validation messages, Jira field errors) is not stored in
// clear in the workflow history.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return &failureConverter{
		inner: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true}),
		dc:    dc,
	}
}

// encodedFailureMessage is what the SDK writes in place of an encoded failure message.
const encodedFailureMessage = "Encoded failure"

// failureConverter makes sure every failure in a cause chain leaves encoded. The SDK's default
// converter re-uses the failure an error was decoded from, and decoding restores the clear
// message into that same failure — so a local activity's error, for one, would otherwise be
// written to the history marker in clear (found by worker TestHistoryHoldsOnlyCiphertext).
type failureConverter struct {
	inner converter.FailureConverter
	dc    converter.DataConverter
}

func (f *failureConverter) ErrorToFailure(err error) *failurepb.Failure {
	fl := f.inner.ErrorToFailure(err)
	if fl == nil {
		return nil
	}
	needs := false
	for c := fl; c != nil; c = c.GetCause() {
		if c.Message != encodedFailureMessage || c.StackTrace != "" {
			needs = true
		}
	}
	if !needs {
		return fl
	}
	out := proto.Clone(fl).(*failurepb.Failure)
	for c := out; c != nil; c = c.GetCause() {
		if c.Message != encodedFailureMessage || c.StackTrace != "" {
			_ = converter.EncodeCommonFailureAttributes(f.dc, c)
		}
	}
	return out
}

func (f *failureConverter) FailureToError(fl *failurepb.Failure) error {
	if fl == nil {
		return nil
	}
	// Decode a copy: the default converter writes the clear message back into the failure it
	// is given, and that failure may be sent again.
	return f.inner.FailureToError(proto.Clone(fl).(*failurepb.Failure))
}
