package salesforce

import "strings"

const (
	checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	base62Alphabet   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// idPod is the two "instance" characters after the key prefix, like "5g" in real ids.
	idPod = "8d"
	// idCounterStart makes generated ids look like real ones (mixed digits and letters).
	idCounterStart = 916132832*11 + 48271
)

// To18 converts a 15-character case-sensitive Salesforce id to its 18-character
// case-insensitive form, because the API always returns 18-character ids.
// It returns the input unchanged if it is not 15 characters long.
func To18(id15 string) string {
	if len(id15) != 15 {
		return id15
	}
	var b [18]byte
	copy(b[:], id15)
	for c := 0; c < 3; c++ {
		v := 0
		for i := 0; i < 5; i++ {
			ch := id15[c*5+i]
			if ch >= 'A' && ch <= 'Z' {
				v |= 1 << i
			}
		}
		b[15+c] = checksumAlphabet[v]
	}
	return string(b[:])
}

func isAlnum(ch byte) bool {
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
}

// NormalizeID validates a 15- or 18-character id and returns its canonical 18-character
// form, so lookups work whichever form (and, for 18 characters, whichever case) a client sends.
func NormalizeID(id string) (string, bool) {
	switch len(id) {
	case 15:
		for i := 0; i < 15; i++ {
			if !isAlnum(id[i]) {
				return "", false
			}
		}
		return To18(id), true
	case 18:
		for i := 0; i < 18; i++ {
			if !isAlnum(id[i]) {
				return "", false
			}
		}
		// The checksum encodes which of the first 15 characters are upper case,
		// so an 18-character id can be restored to its exact case.
		var b [15]byte
		for c := 0; c < 3; c++ {
			k := strings.IndexByte(checksumAlphabet, upper(id[15+c]))
			if k < 0 {
				return "", false
			}
			for i := 0; i < 5; i++ {
				ch := id[c*5+i]
				isLetter := (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
				if k&(1<<i) != 0 {
					if !isLetter {
						return "", false
					}
					b[c*5+i] = upper(ch)
				} else if isLetter {
					b[c*5+i] = lower(ch)
				} else {
					b[c*5+i] = ch
				}
			}
		}
		return To18(string(b[:])), true
	}
	return "", false
}

func upper(ch byte) byte {
	if ch >= 'a' && ch <= 'z' {
		return ch - 'a' + 'A'
	}
	return ch
}

func lower(ch byte) byte {
	if ch >= 'A' && ch <= 'Z' {
		return ch - 'A' + 'a'
	}
	return ch
}

// makeID builds an 18-character id from a key prefix and a counter value.
func makeID(prefix string, n uint64) string {
	var digits [10]byte
	for i := 9; i >= 0; i-- {
		digits[i] = base62Alphabet[n%62]
		n /= 62
	}
	return To18(prefix + idPod + string(digits[:]))
}
