nmpu.v
adc_capture.v
tile_io.v
pwm_dac.v
nmpu_fp16.v
