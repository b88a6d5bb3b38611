"""nestax: NEST's spiking-network models and semantics as compiled JAX programs.

    import brainunit as u
    import nestax as nx
    sim = nx.Simulator(dt=0.1 * u.ms)
    pop = sim.create(nx.iaf_psc_exp, 10, I_e=400. * u.pA)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pop, sr)
    res = sim.simulate(100. * u.ms)
    res.rate(sr)
"""
from . import random
from . import spatial, spatial_distributions
from .connect import (all_to_all, fixed_indegree, fixed_outdegree, fixed_total_number, one_to_one,
                      pairwise_bernoulli, pairwise_poisson, symmetric_pairwise_bernoulli)
from .errors import (BadParameterError, ConnectionError_, ForeignNodesError, MemoryLimitError, NestaxError,
                     ReadOnlyError, UnitError, UnknownModelError, UnknownParameterError)
from .models.devices.generators import (ac_generator, dc_generator, noise_generator, poisson_generator,
                                        spike_generator, step_current_generator)
from .models.devices.recorders import multimeter, spike_recorder, voltmeter
from .models.neurons.iaf_cond import iaf_cond_alpha, iaf_cond_beta, iaf_cond_exp
from .models.neurons.iaf_psc import iaf_psc_alpha, iaf_psc_delta, iaf_psc_exp
from .models.neurons.parrot import parrot_neuron
from .models.neurons.rate import rate_neuron_ipn, rate_neuron_opn, rate_transformer_node
from .models.registry import models
from .models import devices as _devices, neurons as _neurons, synapses as _synapses  # registers every model module
from .models.registry import _MODELS as _registered

# every registered model is available as nx.<NEST name>
globals().update({_name: _cls for _name, _cls in _registered.items() if _name not in globals()})
from .models.synapses.static import static_synapse, static_synapse_hom_w
from .models.synapses.stdp import stdp_synapse, stdp_synapse_hom
from .models.synapses.stdp_variants import (stdp_nn_pre_centered_synapse, stdp_nn_restr_synapse,
                                              stdp_nn_symm_synapse, stdp_pl_synapse_hom, vogels_sprekeler_synapse)
from .models.synapses.tsodyks import tsodyks_synapse, tsodyks2_synapse, tsodyks_synapse_hom
from .models.synapses.bernoulli import bernoulli_synapse
from .nodes import NodeCollection
from .result import Result
from .simulator import Simulator
from .batch import Batch, BatchResult
from . import plot
from . import functional  # neuron models as plain functions (nx.functional.params / init / step / run)
from .models import surrogate  # surrogate spike derivatives for differentiable runs (docs/gradients.md)
from . import gradients  # nx.gradients.as_function: a network as a differentiable function
from .compat_brainpy import dist  # brainpy.state's dist.Normal / Uniform / LogNormal (-> nx.random)

__version__ = "0.1.0"
