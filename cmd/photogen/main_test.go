package main

import (
	"os"
	"testing"

	"photogen/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
