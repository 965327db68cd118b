// Command gen writes offpay's test vectors to spec/vectors, replacing
// every *.json file there: go run ./protocol/vectors/gen [-dir spec/vectors].
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/offpay/offpay/protocol/vectors"
)

func main() {
	dir := flag.String("dir", "spec/vectors", "output directory")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	old, err := filepath.Glob(filepath.Join(*dir, "*.json"))
	if err != nil {
		log.Fatal(err)
	}
	files := vectors.Files()
	for _, f := range old {
		if _, keep := files[filepath.Base(f)]; !keep {
			if err := os.Remove(f); err != nil {
				log.Fatal(err)
			}
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("wrote %d vectors to %s\n", len(files), *dir)
}
