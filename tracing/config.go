// This file holds the tracing settings photogen reads itself: whether tracing is on,
// and the checks that make a bad setting stop the process at start-up.

package tracing

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Config is what decides tracing. The OTLP exporter reads the rest of the standard
// OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression, TLS) itself.
type Config struct {
	// Endpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT:
	// the collector's URL. Unset, tracing is off.
	Endpoint string
	// Protocol is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL;
	// only http/protobuf (the default) is supported.
	Protocol string
	// Disabled is OTEL_SDK_DISABLED=true: off whatever the endpoint.
	Disabled bool
	// ServiceName is the default service.name (OTEL_SERVICE_NAME overrides it).
	ServiceName string
	// ServiceVersion is service.version.
	ServiceVersion string
}

// ConfigFromEnv reads the variables above through getenv.
func ConfigFromEnv(getenv func(string) string) Config {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return Config{
		Endpoint: first("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
		Protocol: first("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
		Disabled: strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true"),
	}
}

// On reports whether c turns tracing on.
func (c Config) On() bool { return c.Endpoint != "" && !c.Disabled }

// Validate reports every setting that cannot work when tracing is on.
func (c Config) Validate() error {
	if !c.On() {
		return nil
	}
	var errs []error
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q: want an absolute http(s) URL such as http://collector:4318", c.Endpoint))
	}
	if c.Protocol != "" && c.Protocol != "http/protobuf" {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: photogen exports traces with http/protobuf only", c.Protocol))
	}
	return errors.Join(errs...)
}
