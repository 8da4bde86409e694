// This file holds the tracing settings photogen reads itself: whether tracing is on,
// and the checks that make a bad setting stop the process at start-up.

package tracing

import (
	"errors"
	"fmt"
	"net/url"
)

// Config is what decides tracing. The OTLP exporter reads the rest of the standard
// OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression, TLS) itself.
type Config struct {
	// Endpoint is the collector's URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
	// OTEL_EXPORTER_OTLP_ENDPOINT). Unset, tracing is off.
	Endpoint string
	// Protocol is the exporter's protocol; only http/protobuf (the default) is supported.
	Protocol string
	// Disabled turns tracing off whatever the endpoint (OTEL_SDK_DISABLED=true).
	Disabled bool
	// ServiceName is the default service.name (OTEL_SERVICE_NAME overrides it).
	ServiceName string
	// ServiceVersion is service.version.
	ServiceVersion string
}

// On reports whether c turns tracing on.
func (c Config) On() bool { return c.Endpoint != "" && !c.Disabled }

// Validate reports every setting that cannot work when tracing is on, each error
// naming its field first (the command line names the variable instead).
func (c Config) Validate() error {
	if !c.On() {
		return nil
	}
	var errs []error
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("Endpoint %q: want an absolute http(s) URL such as http://collector:4318", c.Endpoint))
	}
	if c.Protocol != "" && c.Protocol != "http/protobuf" {
		errs = append(errs, fmt.Errorf("Protocol %q: photogen exports traces with http/protobuf only", c.Protocol))
	}
	return errors.Join(errs...)
}
