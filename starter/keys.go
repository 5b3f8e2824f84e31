package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/internal/codec"
)

func keysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the AES-256 keyring that encrypts Temporal payloads and stored OAuth tokens",
		Long: `The keyring (security.keyring_env, default SFJIRA_KEYRING, or security.keyring_file) lists
entries id:base64key; the FIRST entry encrypts new data, every entry can decrypt.

Rotating without downtime:
  1. sfjira keys generate --id k2          # prints a new entry
  2. put it FIRST in the keyring, keep the old entries, restart workers one by one
     (old and new workers both read everything: each ciphertext names its key id)
  3. sfjira keys rotate                    # re-encrypts stored tokens with the new key
  4. remove the old entry once no workflow history you still need was written with it
     (the namespace's retention period after step 2).`,
	}
	cmd.AddCommand(keysGenerateCmd(), keysRotateCmd(g), keysStatusCmd(g))
	return cmd
}

func keysGenerateCmd() *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "generate [--id ID]",
		Short: "Print a new random keyring entry (id:base64key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				id = "k" + time.Now().UTC().Format("20060102T150405")
			}
			e, err := codec.GenerateEntry(id)
			if err != nil {
				return usagef("--id: %v", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), e)
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "key id (default k<UTC timestamp>)")
	return cmd
}

func keysRotateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Re-encrypt every stored token with the keyring's active (first) key, online",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			kr, err := codec.KeyringFromConfig(cfg.Security)
			if err != nil {
				return err
			}
			st, err := openMigratedStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.Tokens(kr)
			if err != nil {
				return err
			}
			n, err := ts.Rotate(cmd.Context())
			if err != nil {
				return fmt.Errorf("rotated %d token(s) before failing: %w", n, err)
			}
			use, err := ts.TokenKeyUse(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "re-encrypted %d token(s) with key %s; tokens by key now: %s\n", n, kr.ActiveID(), formatUse(use))
			return nil
		},
	}
}

func keysStatusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show the keyring's key ids (never the keys) and which keys the stored tokens use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			kr, err := codec.KeyringFromConfig(cfg.Security)
			if err != nil {
				return err
			}
			if kr == nil {
				return fmt.Errorf("no keyring configured: payloads and tokens are not encrypted (fix: `sfjira keys generate`, then export %s)", cfg.Security.KeyringEnv)
			}
			st, err := openMigratedStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, _ := st.Tokens(kr)
			use, err := ts.TokenKeyUse(cmd.Context())
			if err != nil {
				return err
			}
			var missing []string
			for id := range use {
				if !kr.Has(id) {
					missing = append(missing, id)
				}
			}
			sort.Strings(missing)
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"active": kr.ActiveID(), "keys": kr.IDs(), "tokens_by_key": use, "missing_keys": missing})
			}
			fmt.Fprintf(out, "active key: %s\nkeys in ring: %v\ntokens by key: %s\n", kr.ActiveID(), kr.IDs(), formatUse(use))
			if len(missing) > 0 {
				return fmt.Errorf("tokens are sealed with keys not in the keyring: %v (fix: add those entries back, or re-run `sfjira auth`)", missing)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func formatUse(use map[string]int) string {
	if len(use) == 0 {
		return "(no tokens stored)"
	}
	ids := make([]string, 0, len(use))
	for id := range use {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s=%d", id, use[id])
	}
	return s
}
