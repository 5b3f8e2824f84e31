package codec

import "github.com/sfjira/sfjira/internal/config"

// KeyringFromConfig loads the keyring named by the security section; nil (no error) when none is
// configured.
func KeyringFromConfig(s config.Security) (*Keyring, error) {
	return LoadKeyring(s.KeyringEnv, s.KeyringFile)
}
