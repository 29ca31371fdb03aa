nmpu.v
