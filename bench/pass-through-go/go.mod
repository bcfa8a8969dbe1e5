module godepot.invalid/bench/pass-through-go

go 1.19
