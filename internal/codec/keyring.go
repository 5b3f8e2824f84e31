// Package codec holds sfjira's encryption: a keyring of AES-256 keys with ids (so keys can be
// rotated without downtime), AES-GCM sealing for tokens at rest in PostgreSQL, and the Temporal
// PayloadCodec that compresses and encrypts workflow payloads and failure details.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

var reKeyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

// Keyring holds the encryption keys by id. The active key encrypts everything new; every key in
// the ring can still decrypt, which is what lets an operator rotate keys while workers run.
type Keyring struct {
	active string
	keys   map[string]cipher.AEAD
	order  []string
	// macKeys are HMAC keys derived from each AES key (never the AES key itself), for keyed
	// hashes such as the audit trail's PII hashes.
	macKeys map[string][]byte
}

// ErrUnknownKey is returned when a ciphertext names a key id the keyring does not hold.
var ErrUnknownKey = errors.New("codec: unknown key id")

// ParseKeyring reads a keyring from its text form: entries `id:base64-of-32-bytes`, separated
// by commas, spaces or newlines; lines starting with # are comments. The FIRST entry is the
// active key, the others are kept for decrypting older data.
func ParseKeyring(text string) (*Keyring, error) {
	kr := &Keyring{keys: map[string]cipher.AEAD{}, macKeys: map[string][]byte{}}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			lines = append(lines, t)
		}
	}
	fields := strings.FieldsFunc(strings.Join(lines, " "), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' })
	for i, f := range fields {
		id, b64, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("codec: keyring entry %d is not id:base64key (fix: generate entries with `sfjira keys generate`)", i+1)
		}
		if !reKeyID.MatchString(id) {
			return nil, fmt.Errorf("codec: keyring entry %d: key id %q must be 1-40 characters of A-Z a-z 0-9 . _ -", i+1, id)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			raw, err = base64.RawURLEncoding.DecodeString(b64)
		}
		if err != nil || len(raw) != KeySize {
			return nil, fmt.Errorf("codec: keyring entry %d (key id %s): the key must be %d random bytes in base64 (fix: `sfjira keys generate`)", i+1, id, KeySize)
		}
		if _, dup := kr.keys[id]; dup {
			return nil, fmt.Errorf("codec: keyring: key id %s appears twice", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		kr.keys[id] = aead
		kr.macKeys[id] = deriveMACKey(raw)
		kr.order = append(kr.order, id)
		if kr.active == "" {
			kr.active = id
		}
	}
	if kr.active == "" {
		return nil, errors.New("codec: the keyring is empty (fix: `sfjira keys generate` prints an entry to put in it)")
	}
	return kr, nil
}

// LoadKeyring reads the keyring from an environment variable or a file (exactly one of them).
// It returns (nil, nil) when neither is set, so callers can decide whether encryption is required.
func LoadKeyring(env, file string) (*Keyring, error) {
	switch {
	case env != "" && os.Getenv(env) != "":
		kr, err := ParseKeyring(os.Getenv(env))
		if err != nil {
			return nil, fmt.Errorf("keyring from environment variable %s: %w", env, err)
		}
		return kr, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("keyring file: %w (fix: point security.keyring_file at a file written by `sfjira keys generate`)", err)
		}
		kr, err := ParseKeyring(string(b))
		if err != nil {
			return nil, fmt.Errorf("keyring file %s: %w", file, err)
		}
		return kr, nil
	}
	return nil, nil
}

// GenerateEntry returns a new random keyring entry `id:base64key`.
func GenerateEntry(id string) (string, error) {
	if !reKeyID.MatchString(id) {
		return "", fmt.Errorf("key id %q must be 1-40 characters of A-Z a-z 0-9 . _ -", id)
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(k), nil
}

// ActiveID is the id of the key new data is encrypted with.
func (k *Keyring) ActiveID() string { return k.active }

// IDs lists the key ids, active first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.order...) }

// Has reports whether the keyring can decrypt data sealed with key id.
func (k *Keyring) Has(id string) bool { _, ok := k.keys[id]; return ok }

// Seal encrypts plaintext with the active key. aad binds the ciphertext to its context (for
// a token row: its name), so a ciphertext copied to another row does not decrypt. The result
// is nonce||ciphertext.
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, sealed []byte, err error) {
	aead := k.keys[k.active]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	return k.active, aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Open decrypts what Seal produced with the key named keyID.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("%w %q (fix: keep retired keys in the keyring until `sfjira keys rotate` has re-encrypted everything sealed with them)", ErrUnknownKey, keyID)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("codec: ciphertext is too short")
	}
	out, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("codec: decrypt with key %s failed: the data was altered or sealed for another record", keyID)
	}
	return out, nil
}

// macPurpose separates the derived HMAC key from every other use of the keyring's keys.
const macPurpose = "sfjira/pii-hmac-sha256/v1"

func deriveMACKey(raw []byte) []byte {
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(macPurpose))
	return m.Sum(nil)
}

// MAC returns the keyed hash (HMAC-SHA256, key derived from the active key) of value, with the
// key id it used. Equal values give equal hashes under one key id, so an auditor can tell that
// two rows hold the same e-mail without seeing it; without the keyring nobody can test guesses.
func (k *Keyring) MAC(value []byte) (keyID string, sum []byte) {
	m := hmac.New(sha256.New, k.macKeys[k.active])
	m.Write(value)
	return k.active, m.Sum(nil)
}

// MACWith is MAC under a named key (to compare with hashes written before a rotation).
func (k *Keyring) MACWith(keyID string, value []byte) ([]byte, error) {
	key, ok := k.macKeys[keyID]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	m := hmac.New(sha256.New, key)
	m.Write(value)
	return m.Sum(nil), nil
}
