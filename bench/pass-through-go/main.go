// The least a GOPROXY in front of another can do in Go: net/http/httputil's reverse proxy, nothing
// checked or stored. bench/proxy runs it beside bench/pass-through.ts (the same in Node) so that the cold
// fill shows what merely putting a proxy on loopback costs on the machine at hand, whatever it is written
// in. Standard library only: it builds with no network.
// Usage: pass-through-go <upstream URL>; prints its own URL once it listens.
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: pass-through-go <upstream URL>")
	}
	upstream, err := url.Parse(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	// As many idle connections kept as the Node forwarder's pool holds: go downloads zips in parallel.
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 16}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", listener.Addr())
	log.Fatal(http.Serve(listener, proxy))
}
