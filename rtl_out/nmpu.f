nmpu.v
adc_capture.v
