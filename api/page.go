// This file mounts what the api serves besides its JSON endpoints: the subscriber's page
// (package web) and the OpenAPI document (package openapi).

package api

import (
	"github.com/gin-gonic/gin"

	"photogen/openapi"
	"photogen/web"
)

// mountPage serves GET and HEAD of / and /index.html (the page), /assets/*name (its
// scripts, styles and icon) and /openapi.json. The page's handler sets its own security
// headers (Content-Security-Policy, Referrer-Policy: no-referrer, ...) on every answer,
// its 404 for an unknown asset included (with the JSON error body); any other path keeps
// the JSON 404 of NoRoute.
func mountPage(r *gin.Engine) {
	page := wrapJSONErrors(web.Handler())
	for _, p := range []string{"/", "/index.html", "/assets/*name"} {
		r.GET(p, page)
		r.HEAD(p, page)
	}
	doc := wrapJSONErrors(openapi.Handler())
	r.GET("/openapi.json", doc)
	r.HEAD("/openapi.json", doc)
}
