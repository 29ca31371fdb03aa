nmpu.v
adc_capture.v
tile_io.v
