package codec_test

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/sfjira/sfjira/internal/codec"
)

func ring(t *testing.T, ids ...string) (*codec.Keyring, []string) {
	t.Helper()
	var entries []string
	for _, id := range ids {
		e, err := codec.GenerateEntry(id)
		require.NoError(t, err)
		entries = append(entries, e)
	}
	kr, err := codec.ParseKeyring(strings.Join(entries, ","))
	require.NoError(t, err)
	return kr, entries
}

func TestKeyringSealsWithActiveKeyAndOpensOlderKeys(t *testing.T) {
	old, oldEntries := ring(t, "k1")
	id, sealed, err := old.Seal([]byte("refresh-token-secret"), []byte("row-a"))
	require.NoError(t, err)
	require.Equal(t, "k1", id)
	require.False(t, bytes.Contains(sealed, []byte("refresh-token-secret")))

	// Rotation: a new key goes first, the old one stays for reading.
	k2, err := codec.GenerateEntry("k2")
	require.NoError(t, err)
	rotated, err := codec.ParseKeyring("# rotated\n" + k2 + "\n" + oldEntries[0] + "\n")
	require.NoError(t, err)
	require.Equal(t, "k2", rotated.ActiveID())
	require.Equal(t, []string{"k2", "k1"}, rotated.IDs())
	plain, err := rotated.Open(id, sealed, []byte("row-a"))
	require.NoError(t, err)
	require.Equal(t, "refresh-token-secret", string(plain))

	// Bound to its row: another aad does not open it; tampering is detected.
	_, err = rotated.Open(id, sealed, []byte("row-b"))
	require.Error(t, err)
	sealed[len(sealed)-1] ^= 1
	_, err = rotated.Open(id, sealed, []byte("row-a"))
	require.Error(t, err)

	// A ring without k1 names the missing key and the fix.
	only2, err := codec.ParseKeyring(k2)
	require.NoError(t, err)
	_, err = only2.Open("k1", sealed, nil)
	require.ErrorIs(t, err, codec.ErrUnknownKey)
	require.Contains(t, err.Error(), "sfjira keys rotate")
}

func TestParseKeyringRejectsBadEntries(t *testing.T) {
	for _, bad := range []string{"", "# only a comment", "k1", "k1:c2hvcnQ=", "bad id:" + strings.Repeat("A", 44)} {
		_, err := codec.ParseKeyring(bad)
		require.Error(t, err, "%q", bad)
		require.NotContains(t, err.Error(), "c2hvcnQ", "errors never echo key material")
	}
	e, _ := codec.GenerateEntry("k1")
	_, err := codec.ParseKeyring(e + "," + e)
	require.ErrorContains(t, err, "twice")
}

func TestPayloadCodecCompressesThenEncryptsAndDecodesOldKeys(t *testing.T) {
	kr, entries := ring(t, "k1")
	dc := codec.DataConverter(kr)
	secret := strings.Repeat("Acme Corp renewal – customer secret ", 50)
	p, err := dc.ToPayload(map[string]string{"Name": secret})
	require.NoError(t, err)
	require.Equal(t, codec.EncodingEncrypted, string(p.Metadata["encoding"]))
	require.Equal(t, "k1", string(p.Metadata[codec.MetadataKeyID]))
	require.NotContains(t, string(p.Data), "Acme")
	require.Less(t, len(p.Data), len(secret)/4, "compressed before encryption (ciphertext does not compress)")

	// After rotation the payload written under k1 still decodes; new ones use k2.
	k2, _ := codec.GenerateEntry("k2")
	rotated, err := codec.ParseKeyring(k2 + "," + entries[0])
	require.NoError(t, err)
	dc2 := codec.DataConverter(rotated)
	var got map[string]string
	require.NoError(t, dc2.FromPayload(p, &got))
	require.Equal(t, secret, got["Name"])
	p2, err := dc2.ToPayload("x")
	require.NoError(t, err)
	require.Equal(t, "k2", string(p2.Metadata[codec.MetadataKeyID]))

	// Plain payloads (histories from before encryption) pass through.
	plain, err := converter.GetDefaultDataConverter().ToPayload("hello")
	require.NoError(t, err)
	var s string
	require.NoError(t, dc2.FromPayload(plain, &s))
	require.Equal(t, "hello", s)

	// A tampered payload fails loudly instead of decoding garbage.
	bad := &commonpb.Payload{Metadata: p.Metadata, Data: append([]byte(nil), p.Data...)}
	bad.Data[5] ^= 0xff
	require.Error(t, dc2.FromPayload(bad, &got))
}

func TestFailureConverterEncodesMessages(t *testing.T) {
	kr, _ := ring(t, "k1")
	fc := codec.FailureConverter(codec.DataConverter(kr))
	f := fc.ErrorToFailure(errorString("Jira rejected summary 'Secret Deal Name'"))
	require.NotContains(t, f.GetMessage(), "Secret Deal Name")
	require.NotContains(t, f.GetStackTrace(), "Secret Deal Name")
	require.NotNil(t, f.GetEncodedAttributes())
	require.NotContains(t, string(f.GetEncodedAttributes().GetData()), "Secret Deal Name")
	back := fc.FailureToError(f)
	require.Contains(t, back.Error(), "Secret Deal Name")
}

type errorString string

func (e errorString) Error() string { return string(e) }

// The keyed hash for PII in the audit: equal inputs hash equal under one key, the key id comes
// with it, another key gives another hash (a rotation is visible by key id), and the hash is keyed
// (not plain SHA-256 of the value).
func TestMACIsKeyedAndNamesItsKey(t *testing.T) {
	e1, err := codec.GenerateEntry("k1")
	if err != nil {
		t.Fatal(err)
	}
	e2, err := codec.GenerateEntry("k2")
	if err != nil {
		t.Fatal(err)
	}
	kr1, err := codec.ParseKeyring(e1 + "," + e2)
	if err != nil {
		t.Fatal(err)
	}
	id, a := kr1.MAC([]byte("ana@example.com"))
	_, b := kr1.MAC([]byte("ana@example.com"))
	_, c := kr1.MAC([]byte("bo@example.com"))
	if id != "k1" || string(a) != string(b) || string(a) == string(c) {
		t.Fatalf("MAC: id %s, equal %v, distinct %v", id, string(a) == string(b), string(a) != string(c))
	}
	plain := sha256.Sum256([]byte("ana@example.com"))
	if string(a) == string(plain[:]) {
		t.Fatal("the hash is not keyed")
	}
	kr2, err := codec.ParseKeyring(e2 + "," + e1) // rotated: k2 active
	if err != nil {
		t.Fatal(err)
	}
	id2, d := kr2.MAC([]byte("ana@example.com"))
	if id2 != "k2" || string(d) == string(a) {
		t.Fatal("a new active key hashes under its own id")
	}
	old, err := kr2.MACWith("k1", []byte("ana@example.com"))
	if err != nil || string(old) != string(a) {
		t.Fatalf("MACWith the old key: %v", err)
	}
	if _, err := kr2.MACWith("k9", nil); err == nil {
		t.Fatal("unknown key id")
	}
}
