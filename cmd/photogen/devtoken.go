// This file is `photogen dev-token`: it mints a JWT for the usage endpoints with the
// configured secret, so that a developer or an operator can call /api/usage by hand.

package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/spf13/cobra"
)

// devTokenTTL is how long a minted token is valid.
const devTokenTTL = time.Hour

func devTokenCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "dev-token <user-id>",
		Short: "Print a JWT for the usage endpoints (/api/usage), valid for an hour",
		Long: `Print an HS256 JWT for the usage endpoints (/api/usage), signed with AUTH_JWT_SECRET:
sub is the user id (a UUID), exp one hour from now, and aud and iss are AUTH_JWT_AUDIENCE
and AUTH_JWT_ISSUER when those are set. For development and by-hand checks: in
production the tokens come from your identity provider.

  curl -H "Authorization: Bearer $(photogen dev-token <user-id>)" http://127.0.0.1:8080/api/usage`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			user, err := uuid.Parse(args[0])
			if err != nil {
				return usageError(fmt.Errorf("user id %q: want a UUID (the token's sub)", args[0]))
			}
			secret := e.getenv("AUTH_JWT_SECRET")
			if secret == "" {
				return &configError{errs: []error{errors.New("AUTH_JWT_SECRET is required: dev-token signs with the api's secret")}}
			}
			token, err := mintToken(secret, user, e.getenv("AUTH_JWT_AUDIENCE"), e.getenv("AUTH_JWT_ISSUER"), time.Now())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, token)
			return err
		},
	}
}

// mintToken signs the claims the usage endpoints read: sub, iat, exp, and aud and iss
// when given.
func mintToken(secret string, user uuid.UUID, audience, issuer string, now time.Time) (string, error) {
	claims := jwt.RegisteredClaims{
		Subject:   user.String(),
		Issuer:    issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(devTokenTTL)),
	}
	if audience != "" {
		claims.Audience = jwt.ClaimStrings{audience}
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return token, nil
}
