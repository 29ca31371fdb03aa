# Timing constraints for the generated blocks (nmpu, adc_capture, pwm_dac, tile_io).
# The digital units of IBM's 64-core AIMC chip run at 400 MHz: a 2.5 ns clock.
# For an ASIC flow downstream of nmpu (OpenROAD, a commercial tool). No open static timing
# analyser is packaged for Debian here, so nmpu's own flow reports logic depth (Yosys ltp)
# and the iCE40 Fmax from nextpnr; see constraints/README.md.
create_clock -name clock -period 2.5 [get_ports clock]
set_clock_uncertainty 0.1 [get_clocks clock]
# Every stream and configuration input comes from, and every output goes to, a register in
# the neighbouring block: allow 30% of the period outside.
set_input_delay 0.75 -clock clock [delete_from_list [all_inputs] [get_ports clock]]
set_output_delay 0.75 -clock clock [all_outputs]
# reset is synchronous and distributed with the clock tree's timing.
set_false_path -from [get_ports reset]
